/** "+916343043868" (E.164, as the API stores Indian mobiles) -> "+91 63430 43868". Anything
 * else is shown as it came. */
export function formatPhone(phone: string | null): string {
  if (!phone) return '—';
  const match = /^\+91([6-9][0-9]{4})([0-9]{5})$/.exec(phone);
  return match ? `+91 ${match[1]} ${match[2]}` : phone;
}
