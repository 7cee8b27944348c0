import { describe, expect, it } from 'vitest';
import {
  customerOrdersQuerySchema,
  dailyRevenueQuerySchema,
  datesBetween,
  ordersQuerySchema,
} from '../../src/orders/queries';

describe('query parameter schemas', () => {
  it('defaults limit to 20 and sort to newest first', () => {
    expect(ordersQuerySchema.parse({})).toEqual({ limit: 20, sort: '-createdAt' });
    expect(customerOrdersQuerySchema.parse({ limit: '7', status: 'shipped' })).toEqual({
      limit: 7,
      status: 'shipped',
    });
  });

  it.each(['0', '101', '1.5', 'ten'])('refuses limit %s', (limit) => {
    expect(ordersQuerySchema.safeParse({ limit }).success).toBe(false);
  });

  it('refuses an unknown status or sort and an oversized cursor', () => {
    expect(ordersQuerySchema.safeParse({ status: 'lost' }).success).toBe(false);
    expect(ordersQuerySchema.safeParse({ sort: 'price' }).success).toBe(false);
    expect(ordersQuerySchema.safeParse({ cursor: 'x'.repeat(1001) }).success).toBe(false);
  });

  it('accepts real dates in order and a leap year of 366 days', () => {
    expect(dailyRevenueQuerySchema.safeParse({ from: '2024-01-01', to: '2024-12-31' }).success).toBe(true);
    expect(dailyRevenueQuerySchema.safeParse({ from: '2024-02-29', to: '2024-02-29' }).success).toBe(true);
  });

  it.each([
    ['2023-02-29', '2023-03-01'],
    ['2024-13-01', '2024-12-01'],
    ['2024-1-01', '2024-01-02'],
    ['2024-03-02', '2024-03-01'],
    ['2023-01-01', '2024-01-02'],
  ])('refuses from %s to %s', (from, to) => {
    expect(dailyRevenueQuerySchema.safeParse({ from, to }).success).toBe(false);
  });

  it('lists every day of a range across a month end', () => {
    expect(datesBetween('2024-02-28', '2024-03-01')).toEqual(['2024-02-28', '2024-02-29', '2024-03-01']);
  });
});
