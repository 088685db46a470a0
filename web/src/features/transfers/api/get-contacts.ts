import { queryOptions, useQuery } from '@tanstack/react-query';
import { apiRequest } from '@/lib/api-client';
import { transferKeys } from './keys';
import { ContactsSchema, type Contact } from './schemas';

/** The people the user paid, most recently paid first (at most 20). */
export async function getContacts(): Promise<Contact[]> {
  return (await apiRequest('/api/wallet/contacts/', ContactsSchema)).data.results;
}

export const contactsQueryOptions = () => queryOptions({ queryKey: transferKeys.contacts(), queryFn: getContacts });

export function useContacts() {
  return useQuery(contactsQueryOptions());
}
