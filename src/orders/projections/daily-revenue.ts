import { defineProjection } from '../../readmodel/index.js';
import { ORDER_STREAM_PREFIX, type OrderEvent } from '../events.js';
import { dailyRevenueKeys, projectionNames, utcDay } from './keys.js';

/**
 * Counters per UTC day, kept with HINCRBY so a handler never reads. There is no index of days: a report
 * (at most 366 days) computes its date list from `from`/`to` and reads every day's hash in one round trip,
 * which also yields the zero days for free. Revenue is summed per number of decimals, in integers (Redis
 * HINCRBY is exact to 2^63), so a day past 2^53 minor units loses nothing; the report adds them up exactly.
 */
export default defineProjection<OrderEvent>({
  name: projectionNames.dailyRevenue,
  // 2: revenue summed per number of decimals (revenue:<minorUnits>) instead of in cents.
  version: 2,
  streams: [ORDER_STREAM_PREFIX],
  acceptableLagMs: 60_000, // a report: a minute behind is fine
  handlers: {
    OrderPlaced: ({ data }, w) => {
      w.hincrby(dailyRevenueKeys.day(utcDay(data.placedAt)), 'placed', 1);
    },
    OrderCancelled: ({ data }, w) => {
      w.hincrby(dailyRevenueKeys.day(utcDay(data.cancelledAt)), 'cancelled', 1);
    },
    // Revenue is booked on the day the order ships, at its total then.
    OrderShipped: ({ data }, w) => {
      const day = dailyRevenueKeys.day(utcDay(data.shippedAt));
      w.hincrby(day, 'shipped', 1).hincrby(
        day,
        dailyRevenueKeys.revenueField(data.minorUnits),
        data.totalMinor,
      );
    },
  },
});
