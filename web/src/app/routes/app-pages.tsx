import { useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense } from 'react';
import { Link, useParams } from 'react-router';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/states';
import { useClientConfig } from '@/features/auth/api/get-client-config';
import { ProfileCard } from '@/features/profile/components/profile-card';
import { HistoryList } from '@/features/transfers/components/history-list';
import { RecentActivity } from '@/features/transfers/components/recent-activity';
import { SendMoneyForm } from '@/features/transfers/components/send-money-form';
import { TransferDetail } from '@/features/transfers/components/transfer-detail';
import { walletKeys } from '@/features/wallet/api/keys';
import { BalanceCard } from '@/features/wallet/components/balance-card';
import { Loading } from '@/components/ui/spinner';
import { Page } from './page';

// Recharts is most of the bundle: load it with the dashboard, not before the login page.
const CashflowChart = lazy(() =>
  import('@/features/wallet/components/cashflow-chart').then((m) => ({ default: m.CashflowChart })),
);

export function DashboardPage() {
  return (
    <Page
      title="Home"
      actions={
        <Link
          to="/send"
          className="inline-flex min-h-11 items-center rounded-lg bg-brand-700 px-4 text-sm font-semibold text-white hover:bg-brand-800 focus-visible:outline-3 focus-visible:outline-offset-2 focus-visible:outline-brand-600"
        >
          Send money
        </Link>
      }
    >
      <div className="grid gap-4 md:grid-cols-2">
        <BalanceCard />
        <RecentActivity />
      </div>
      <Suspense fallback={<Card><Loading label="Loading cash flow…" /></Card>}>
        <CashflowChart />
      </Suspense>
    </Page>
  );
}

export function SendPage() {
  const config = useClientConfig();
  const queryClient = useQueryClient();
  return (
    <Page title="Send money">
      <div className="grid gap-4 md:grid-cols-2">
        <Card>
          <SendMoneyForm
            maxAmount={config.data?.max_transfer_amount}
            onSent={() => void queryClient.invalidateQueries({ queryKey: walletKeys.balance() })}
          />
        </Card>
        <BalanceCard />
      </div>
    </Page>
  );
}

export function HistoryPage() {
  return (
    <Page title="History">
      <Card>
        <HistoryList />
      </Card>
    </Page>
  );
}

export function TransferPage() {
  const { id = '' } = useParams();
  return (
    <Page title="Transfer" actions={<Link to="/history" className="text-sm font-medium text-brand-700 underline">Back to history</Link>}>
      <TransferDetail id={id} />
    </Page>
  );
}

export function ProfilePage() {
  return (
    <Page title="Profile">
      <ProfileCard />
    </Page>
  );
}

export function NotFoundPage() {
  return (
    <Page title="Page not found">
      <EmptyState title="There is nothing at this address.">
        <Link to="/" className="mt-2 inline-block font-medium text-brand-700 underline">
          Go home
        </Link>
      </EmptyState>
    </Page>
  );
}
