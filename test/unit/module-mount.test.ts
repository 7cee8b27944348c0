import { describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/eventstore';
import { type DomainModule, defineModule, ModuleConflict, mountModules } from '../../src/module';
import { orders } from '../../src/orders';
import { inventory } from '../support/inventory';

const empty = (name: string, parts: Partial<DomainModule> = {}): DomainModule =>
  defineModule({
    name,
    events: {},
    projections: [],
    commands: () => ({}),
    queries: {},
    routes: () => {},
    ...parts,
  });

const noStore = {} as EventStore; // building handlers touches no store

describe('mounting domain modules', () => {
  it('given orders and inventory, then every projection of both is mounted once, with its module', () => {
    const mounted = mountModules([orders, inventory]);
    expect(mounted.projections.map(({ projection, module }) => [module, projection.name])).toEqual([
      ...orders.projections.map((p) => ['orders', p.name]),
      ['inventory', 'stock-levels'],
    ]);
  });

  it.each([
    ['event type OrderPlaced', empty('other', { events: { OrderPlaced: { current: 1 } } })],
    ['query type GetOrderById', empty('other', { queries: { GetOrderById: async () => null } })],
    ['projection order-view', empty('other', { projections: [orders.projections[0]!] })],
  ])('given a second module claiming %s, then mounting stops naming it and both modules', (what, other) => {
    expect(() => mountModules([orders, other])).toThrow(ModuleConflict);
    expect(() => mountModules([orders, other])).toThrow(
      `${what} is claimed by module orders and by module other`,
    );
  });

  it('given a second module claiming a command type, then building the command bus stops naming it', () => {
    const other = empty('other', { commands: () => ({ PlaceOrder: async () => ({}) as never }) });
    const mounted = mountModules([orders, other]);
    expect(() => mounted.commandBus({ store: noStore })).toThrow(
      'command type PlaceOrder is claimed by module orders and by module other',
    );
  });

  it("given an event of another module's type, then a projection upcasts it as its owner would", () => {
    const mounted = mountModules([orders, inventory]);
    const stockProjection = mounted.projections.find(({ module }) => module === 'inventory')!;
    const old = {
      type: 'StockReserved',
      data: { sku: 'a', qty: 2, at: '2025-01-01T00:00:00.000Z' },
      metadata: { schemaVersion: 1 },
    };
    const upcast = stockProjection.upcast(old as never);
    expect(upcast.data).toEqual({ sku: 'a', quantity: 2, reservedAt: '2025-01-01T00:00:00.000Z' });
    const orderView = mounted.projections.find(({ module }) => module === 'orders')!;
    expect(orderView.upcast(old as never).data).toEqual(upcast.data);
  });
});
