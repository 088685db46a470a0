import { useEffect, useState, type FormEvent } from 'react';
import { Button } from '@/components/ui/button';
import { Card } from '@/components/ui/card';
import { Field } from '@/components/ui/field';
import { SkeletonRows } from '@/components/ui/skeleton';
import { ErrorState } from '@/components/ui/states';
import { env } from '@/config/env';
import { isApiError } from '@/lib/api-client';
import { formatDateTime } from '@/lib/dates';
import { formatPhone } from '@/lib/phone';
import { useProfile } from '../api/get-profile';
import { useRevealAadhaar } from '../api/reveal-aadhaar';

export function ProfileCard() {
  const profile = useProfile();
  if (profile.isPending) return <Card><SkeletonRows label="Loading your profile…" lines={4} /></Card>;
  if (profile.isError) return <ErrorState message={profile.error.message} onRetry={() => void profile.refetch()} />;
  const p = profile.data;
  return (
    <Card aria-labelledby="profile-heading">
      <h2 id="profile-heading" className="text-xl font-semibold">
        {p.full_name}
      </h2>
      <dl className="mt-4 grid grid-cols-1 gap-x-3 gap-y-0.5 text-sm sm:grid-cols-[10rem_1fr] sm:gap-y-3 [&>dt:not(:first-child)]:mt-3 sm:[&>dt:not(:first-child)]:mt-0">
        <dt className="text-muted">Email</dt>
        <dd className="break-words">{p.email}</dd>
        <dt className="text-muted">Mobile</dt>
        <dd data-testid="phone">{formatPhone(p.phone)}</dd>
        <dt className="text-muted">Member since</dt>
        <dd>{formatDateTime(p.date_joined)}</dd>
        <dt className="text-muted">Aadhaar</dt>
        <dd>
          <AadhaarReveal masked={p.aadhaar_masked} />
        </dd>
      </dl>
    </Card>
  );
}

function AadhaarReveal({ masked }: { masked: string }) {
  const reveal = useRevealAadhaar();
  const [asking, setAsking] = useState(false);
  const [password, setPassword] = useState('');
  const [secondsLeft, setSecondsLeft] = useState(0);
  const { reset } = reveal;

  // Shown for 30 seconds, then dropped from memory.
  useEffect(() => {
    if (!reveal.data) return;
    setSecondsLeft(env.revealSeconds);
    const started = Date.now();
    const tick = setInterval(() => {
      const left = env.revealSeconds - Math.floor((Date.now() - started) / 1000);
      if (left <= 0) {
        clearInterval(tick);
        reset();
      } else {
        setSecondsLeft(left);
      }
    }, 250);
    return () => clearInterval(tick);
  }, [reveal.data, reset]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    reveal.mutate(password, {
      onSuccess: () => {
        setAsking(false);
        setPassword('');
      },
    });
  };

  if (reveal.data) {
    return (
      <div className="flex flex-wrap items-center gap-3">
        <span data-testid="aadhaar" className="font-mono text-base tracking-wider">
          {reveal.data}
        </span>
        <span className="text-xs text-muted" aria-live="polite">
          Hidden again in {secondsLeft} s
        </span>
        <Button variant="secondary" onClick={() => reset()}>
          Hide
        </Button>
      </div>
    );
  }
  const error = reveal.error;
  return (
    <div className="flex flex-col gap-3">
      <div className="flex flex-wrap items-center gap-3">
        <span data-testid="aadhaar" className="font-mono text-base tracking-wider">
          {masked}
        </span>
        {!asking && (
          <Button variant="secondary" onClick={() => setAsking(true)}>
            Reveal
          </Button>
        )}
      </div>
      {asking && (
        <form onSubmit={submit} className="flex max-w-sm flex-col gap-3" aria-label="Reveal Aadhaar">
          <Field
            label="Enter your password to see the full number"
            type="password"
            autoComplete="current-password"
            autoFocus
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={
              error
                ? isApiError(error) && error.status === 403
                  ? 'That password is not right.'
                  : isApiError(error) && error.status === 429
                    ? 'Too many tries. Wait a minute and try again.'
                    : error.message
                : null
            }
          />
          <div className="flex gap-2">
            <Button type="submit" loading={reveal.isPending}>
              Show number
            </Button>
            <Button
              variant="ghost"
              onClick={() => {
                setAsking(false);
                setPassword('');
                reveal.reset();
              }}
            >
              Cancel
            </Button>
          </div>
        </form>
      )}
    </div>
  );
}
