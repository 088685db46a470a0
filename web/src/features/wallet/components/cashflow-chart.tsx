import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Card } from '@/components/ui/card';
import { SkeletonRows } from '@/components/ui/skeleton';
import { EmptyState, ErrorState } from '@/components/ui/states';
import { formatDay } from '@/lib/dates';
import { formatInr, toPaise } from '@/lib/money';
import { useCashflow } from '../api/get-cashflow';
import type { Cashflow } from '../api/schemas';

// Recharts plots numbers, so each amount becomes a Number for its position on the chart only;
// every figure shown as text (tooltip, table) is formatted from the original string.
type Point = { date: string; label: string; in: number; out: number; balance: number; raw: Cashflow['days'][number] };

function toPoints(days: Cashflow['days']): Point[] {
  return days.map((d) => ({
    date: d.date,
    label: formatDay(d.date),
    in: Number(d.in),
    out: Number(d.out),
    balance: Number(d.balance),
    raw: d,
  }));
}

function ChartTooltip({ active, payload }: { active?: boolean; payload?: Array<{ payload: Point }> }) {
  const point = payload?.[0]?.payload;
  if (!active || !point) return null;
  return (
    <div className="rounded-lg border border-line bg-surface p-2 text-xs text-ink shadow">
      <p className="font-semibold">{point.label}</p>
      <p className="text-positive">In: {formatInr(point.raw.in)}</p>
      <p className="text-negative">Out: {formatInr(point.raw.out)}</p>
      <p>Balance: {formatInr(point.raw.balance)}</p>
    </div>
  );
}

const compact = new Intl.NumberFormat('en-IN', { notation: 'compact', maximumFractionDigits: 1 });

export function CashflowChart() {
  const cashflow = useCashflow(30);
  return (
    <Card aria-labelledby="cashflow-heading">
      <h2 id="cashflow-heading" className="text-lg font-semibold">
        Cash flow, last 30 days
      </h2>
      {cashflow.isPending && <SkeletonRows label="Loading cash flow…" lines={4} />}
      {cashflow.isError && (
        <ErrorState message={`Could not load the cash flow. ${cashflow.error.message}`} onRetry={() => void cashflow.refetch()} />
      )}
      {cashflow.data && <ChartBody data={cashflow.data} />}
    </Card>
  );
}

function ChartBody({ data }: { data: Cashflow }) {
  const moved = data.days.filter((d) => toPaise(d.in) > 0n || toPaise(d.out) > 0n);
  if (moved.length === 0) {
    return (
      <div className="mt-4">
        <EmptyState title="No money moved in the last 30 days." />
      </div>
    );
  }
  const points = toPoints(data.days);
  return (
    <>
      <div className="mt-4 h-64 w-full" data-testid="cashflow-chart" aria-hidden="true">
        <ResponsiveContainer width="100%" height="100%">
          {/* Hidden from assistive technology (the table below has the figures), so not focusable either. */}
          <ComposedChart accessibilityLayer={false} data={points} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="var(--color-line)" vertical={false} />
            <XAxis dataKey="label" tick={{ fontSize: 11, fill: 'var(--color-muted)' }} interval="preserveStartEnd" minTickGap={24} />
            <YAxis tick={{ fontSize: 11, fill: 'var(--color-muted)' }} tickFormatter={(v: number) => compact.format(v)} width={44} />
            <Tooltip content={<ChartTooltip />} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <Bar dataKey="in" name="Money in" fill="var(--color-positive)" radius={[3, 3, 0, 0]} isAnimationActive={false} />
            <Bar dataKey="out" name="Money out" fill="var(--color-negative)" radius={[3, 3, 0, 0]} isAnimationActive={false} />
            <Line dataKey="balance" name="Balance" stroke="var(--color-accent)" strokeWidth={2} dot={false} type="linear" isAnimationActive={false} />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
      {/* sr-only on a wrapper: a table grows to fit its cells whatever width it is given. */}
      <div className="sr-only">
        <table data-testid="cashflow-table">
          <caption>Days with money in or out in the last 30 days</caption>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">In</th>
              <th scope="col">Out</th>
              <th scope="col">Balance at end of day</th>
            </tr>
          </thead>
          <tbody>
            {moved.map((d) => (
              <tr key={d.date}>
                <th scope="row">{d.date}</th>
                <td>{formatInr(d.in)}</td>
                <td>{formatInr(d.out)}</td>
                <td>{formatInr(d.balance)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
