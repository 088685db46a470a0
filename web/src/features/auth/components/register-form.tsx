import { useRef, useState, type FormEvent } from 'react';
import { Button } from '@/components/ui/button';
import { Field } from '@/components/ui/field';
import { Alert } from '@/components/ui/states';
import { aadhaarDigits, formatAadhaarInput, validateAadhaar } from '@/lib/aadhaar';
import { isApiError } from '@/lib/api-client';
import { useRegister } from '../api/register';

type Values = { full_name: string; email: string; phone: string; password: string; aadhaar: string };
type Errors = Partial<Record<keyof Values, string>>;

function check(v: Values): Errors {
  const errors: Errors = {};
  if (!v.full_name.trim()) errors.full_name = 'Enter your full name.';
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v.email.trim())) errors.email = 'Enter an email address like name@example.com.';
  if (v.phone && !/^(\+91)?[6-9][0-9]{9}$/.test(v.phone.replace(/ /g, ''))) {
    errors.phone = 'A mobile number has 10 digits starting 6-9, with or without +91.';
  }
  if (v.password.length < 8) errors.password = 'Use at least 8 characters.';
  const aadhaar = validateAadhaar(v.aadhaar);
  if (aadhaar) errors.aadhaar = aadhaar;
  return errors;
}

export function RegisterForm({ onRegistered }: { onRegistered: () => void }) {
  const [values, setValues] = useState<Values>({ full_name: '', email: '', phone: '', password: '', aadhaar: '' });
  const [errors, setErrors] = useState<Errors>({});
  const registerMutation = useRegister();
  const formRef = useRef<HTMLFormElement>(null);

  const set = (key: keyof Values) => (e: React.ChangeEvent<HTMLInputElement>) => {
    const value = key === 'aadhaar' ? formatAadhaarInput(e.target.value) : e.target.value;
    setValues((v) => ({ ...v, [key]: value }));
    if (errors[key]) setErrors((old) => ({ ...old, [key]: undefined }));
  };

  const focusFirstError = () =>
    requestAnimationFrame(() => formRef.current?.querySelector<HTMLInputElement>('[aria-invalid="true"]')?.focus());

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found = check(values);
    setErrors(found);
    if (Object.keys(found).length > 0) {
      focusFirstError();
      return;
    }
    registerMutation.mutate(
      {
        full_name: values.full_name.trim(),
        email: values.email.trim(),
        phone: values.phone.replace(/ /g, '') || undefined,
        password: values.password,
        aadhaar: aadhaarDigits(values.aadhaar),
      },
      {
        onSuccess: onRegistered,
        onError: (error) => {
          if (isApiError(error) && Object.keys(error.fields).length > 0) {
            const server: Errors = {};
            for (const [field, messages] of Object.entries(error.fields)) {
              if (field in values) server[field as keyof Values] = messages.join(' ');
            }
            setErrors(server);
            focusFirstError();
          }
        },
      },
    );
  };

  const error = registerMutation.error;
  const unmatchedFields =
    isApiError(error) && Object.keys(error.fields).some((f) => !(f in values)) ? Object.values(error.fields).flat() : [];

  return (
    <form ref={formRef} onSubmit={submit} className="flex flex-col gap-4" aria-label="Create an account" noValidate>
      {error && (!isApiError(error) || Object.keys(error.fields).length === 0 || unmatchedFields.length > 0) && (
        <Alert>{unmatchedFields.length > 0 ? unmatchedFields.join(' ') : error.message}</Alert>
      )}
      <Field label="Full name" autoComplete="name" value={values.full_name} onChange={set('full_name')} error={errors.full_name} />
      <Field label="Email" type="email" autoComplete="email" value={values.email} onChange={set('email')} error={errors.email} />
      <Field
        label="Mobile number (optional)"
        type="tel"
        autoComplete="tel"
        value={values.phone}
        onChange={set('phone')}
        error={errors.phone}
        hint="10 digits, with or without +91"
      />
      <Field
        label="Password"
        type="password"
        autoComplete="new-password"
        value={values.password}
        onChange={set('password')}
        error={errors.password}
        hint="At least 8 characters; not only numbers, not a common password"
      />
      <Field
        label="Aadhaar number"
        inputMode="numeric"
        autoComplete="off"
        placeholder="1234 5678 9012"
        value={values.aadhaar}
        onChange={set('aadhaar')}
        error={errors.aadhaar}
        hint="12 digits. It is stored encrypted and shown to you only masked."
        className="font-mono tracking-wider"
      />
      <Button type="submit" loading={registerMutation.isPending}>
        Create account
      </Button>
    </form>
  );
}
