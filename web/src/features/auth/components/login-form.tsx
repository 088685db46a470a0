import { useState, type FormEvent } from 'react';
import { Button } from '@/components/ui/button';
import { Field } from '@/components/ui/field';
import { Alert } from '@/components/ui/states';
import { isApiError } from '@/lib/api-client';
import { useClientConfig } from '../api/get-client-config';
import { useLogin } from '../api/login';

export function LoginForm({ onLoggedIn }: { onLoggedIn: () => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const loginMutation = useLogin();
  const config = useClientConfig();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    loginMutation.mutate({ email: email.trim(), password }, { onSuccess: onLoggedIn });
  };

  const error = loginMutation.error;
  const demo = config.data?.demo_mode ? config.data : null;

  return (
    <div className="flex flex-col gap-6">
      <form onSubmit={submit} className="flex flex-col gap-4" aria-label="Log in" noValidate>
        {error && (
          <Alert>
            {isApiError(error) && error.status === 401 ? 'Wrong email or password.' : error.message}
          </Alert>
        )}
        <Field label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <Field
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <Button type="submit" loading={loginMutation.isPending}>
          Log in
        </Button>
      </form>
      {demo && demo.demo_logins.length > 0 && (
        <section aria-labelledby="demo-heading" className="rounded-lg border border-sky-200 bg-sky-50 p-4 text-sm text-sky-950 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-50">
          <h2 id="demo-heading" className="font-semibold">
            Demo mode
          </h2>
          <p className="mt-1">
            Every demo user’s password is <code className="rounded bg-surface px-1 font-mono">{demo.demo_password}</code>. Pick one to
            fill the form:
          </p>
          <ul className="mt-2 flex flex-col gap-1">
            {demo.demo_logins.map((u) => (
              <li key={u.email}>
                <button
                  type="button"
                  className="w-full rounded px-2 py-1.5 text-left hover:bg-sky-100 focus-visible:outline-2 focus-visible:outline-sky-700 dark:hover:bg-sky-900"
                  onClick={() => {
                    setEmail(u.email);
                    setPassword(demo.demo_password ?? '');
                  }}
                >
                  <span className="font-medium">{u.full_name}</span> <span className="break-all text-sky-900 dark:text-sky-200">{u.email}</span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
