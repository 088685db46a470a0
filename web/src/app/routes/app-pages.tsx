import { useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense } from 'react';
import { Link, useParams } from 'react-router';
import { Card } from '@/components/ui/card';
import { EmptyState } from '@/components/ui/states';
import { useClientConfig } from '@/features/auth/api/get-client-config';
import { ProfileCard } from '@/features/profile/components/profile-card';
import { HistoryList } from '@/features/transfers/components/history-list';
import { RecentActivity } from '@/features/transfers/components/recent-activity';
import { SendMoney } from '@/features/transfers/components/send-money';
import { TransferDetail } from '@/features/transfers/components/transfer-detail';
import { useBalance } from '@/features/wallet/api/get-balance';
import { walletKeys } from '@/features/wallet/api/keys';
import { BalanceCard } from '@/features/wallet/components/balance-card';
import { SkeletonRows } from '@/components/ui/skeleton';
import { Page } from './page';

// Recharts is most of the bundle: load it with the dashboard, not before the login page.
const CashflowChart = lazy(() =>
  import('@/features/wallet/components/cashflow-chart').then((m) => ({ default: m.CashflowChart })),
);

export function DashboardPage() {
  return (
    <Page title="Home">
      <div className="grid gap-4 md:grid-cols-2">
        <BalanceCard withActions />
        <RecentActivity />
      </div>
      <Suspense
        fallback={
          <Card>
            <SkeletonRows label="Loading cash flow…" lines={4} />
          </Card>
        }
      >
        <CashflowChart />
      </Suspense>
    </Page>
  );
}

export function SendPage() {
  const config = useClientConfig();
  const balance = useBalance();
  const queryClient = useQueryClient();
  return (
    <Page title="Send money">
      <div className="grid items-start gap-4 md:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <Card>
          <SendMoney
            available={balance.data?.available}
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
    <Page title="Transfer" actions={<Link to="/history" className="inline-flex min-h-11 items-center text-sm font-medium text-accent underline">
          Back to history
        </Link>}>
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
        <Link to="/" className="mt-2 inline-block font-medium text-accent underline">
          Go home
        </Link>
      </EmptyState>
    </Page>
  );
}
