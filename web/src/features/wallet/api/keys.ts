export const walletKeys = {
  all: ['wallet'] as const,
  balance: () => [...walletKeys.all, 'balance'] as const,
  cashflow: (days: number) => [...walletKeys.all, 'cashflow', days] as const,
};
