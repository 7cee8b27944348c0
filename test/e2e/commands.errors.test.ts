import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestApp, type TestApp, validOrder } from '../support/app';
import { eventsOf, expectProblem, expectSuccess, jsonAs, placeOrder, withMethod } from './commands.requests';

const address = { line1: '1 Main Street', city: 'Berlin', postalCode: '10115', country: 'DE' };

/** Every command on an existing order: how to send it with a valid body, and the command it names. */
const orderCommands = [
  { name: 'AddItem', path: '/items', init: () => json({ sku: 'SKU-7', quantity: 1, unitPrice: 2.5 }) },
  { name: 'ChangeShippingAddress', path: '/shipping-address', init: () => jsonAs('PUT', address) },
  { name: 'ConfirmOrder', path: '/confirm', init: (): RequestInit => ({ method: 'POST' }) },
  { name: 'ShipOrder', path: '/ship', init: () => json({ trackingNumber: 'T-1' }) },
  { name: 'CancelOrder', path: '', init: () => jsonAs('DELETE', { reason: 'no longer needed' }) },
] as const;
type OrderCommandName = (typeof orderCommands)[number]['name'];

/** The lifecycle of docs/api.md: which commands each state accepts. */
const allowedIn: Record<string, OrderCommandName[]> = {
  pending: ['AddItem', 'ChangeShippingAddress', 'ConfirmOrder', 'CancelOrder'],
  confirmed: ['ChangeShippingAddress', 'ShipOrder', 'CancelOrder'],
  shipped: [],
  cancelled: [],
};

/** Every command route, place included, as method and path for one order. */
const commandRoutes = (orderId: string) => [
  { method: 'POST', path: '/orders' },
  { method: 'POST', path: `/orders/${orderId}/items` },
  { method: 'PUT', path: `/orders/${orderId}/shipping-address` },
  { method: 'POST', path: `/orders/${orderId}/confirm` },
  { method: 'POST', path: `/orders/${orderId}/ship` },
  { method: 'DELETE', path: `/orders/${orderId}` },
];

describe('commands over HTTP: every refusal the contract promises, and nothing appended', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.stop());

  /** An order in `state`, reached through the API itself. */
  const orderIn = async (state: string): Promise<string> => {
    const { orderId } = await placeOrder(t);
    const steps: Record<string, string[]> = {
      pending: [],
      confirmed: ['/confirm'],
      shipped: ['/confirm', '/ship'],
      cancelled: [''],
    };
    for (const step of steps[state]!) {
      const method = step === '' ? 'DELETE' : 'POST';
      await expectSuccess(await t.http(`/orders/${orderId}${step}`, { method }), 200);
    }
    return orderId;
  };

  it('given malformed JSON, when it is sent to any command, then 400 malformed-json', async () => {
    const { orderId } = await placeOrder(t);
    const before = await t.app.store.headPosition();
    for (const { method, path } of commandRoutes(orderId)) {
      const init = withMethod(method, {
        headers: { 'content-type': 'application/json' },
        body: '{"sku": "A",',
      });
      const problem = await expectProblem(await t.http(path, init), 400);
      expect(problem.type, `${method} ${path}`).toMatch(/\/malformed-json$/);
    }
    expect(await t.app.store.headPosition()).toBe(before);
  });

  it('given an order with several bad fields, when it is placed, then 400 lists exactly those fields', async () => {
    const broken = {
      customerId: 'has spaces',
      'items.0.quantity': 0,
      'items.1.unitPrice': 1.23456,
      'shippingAddress.country': 'XX',
      currency: 'ABC',
      extra: true,
    };
    const body = validOrder({
      customerId: broken.customerId,
      currency: broken.currency,
      extra: broken.extra,
    });
    body.items[0]!.quantity = broken['items.0.quantity'];
    body.items[1]!.unitPrice = broken['items.1.unitPrice'];
    body.shippingAddress.country = broken['shippingAddress.country'];
    const problem = await expectProblem(await t.http('/orders', json(body)), 400);
    expect(problem.type).toMatch(/\/validation-failed$/);
    expect(problem.errors?.map((e) => e.path).sort()).toEqual(Object.keys(broken).sort());
    for (const error of problem.errors ?? []) expect(error.message.length).toBeGreaterThan(0);
  });

  it('given a line with a bad sku, quantity and price, when it is added, then 400 names each of them', async () => {
    const { orderId } = await placeOrder(t);
    const line = { sku: '', quantity: 2.5, unitPrice: -1 };
    const problem = await expectProblem(await t.http(`/orders/${orderId}/items`, json(line)), 400);
    expect(problem.errors?.map((e) => e.path).sort()).toEqual(Object.keys(line).sort());
    expect(await eventsOf(t, orderId)).toHaveLength(1);
  });

  it('given an id that is not a UUID, when any order command is sent, then 400 names the id', async () => {
    for (const command of orderCommands) {
      const problem = await expectProblem(
        await t.http(`/orders/not-a-uuid${command.path}`, command.init()),
        400,
      );
      expect(problem.errors, command.name).toEqual([{ path: 'id', message: expect.any(String) }]);
    }
  });

  it('given an unknown order, when any command is sent (with or without If-Match), then 404 and no stream is created', async () => {
    for (const command of orderCommands) {
      for (const ifMatch of [undefined, '"0"']) {
        const orderId = crypto.randomUUID();
        const init = command.init();
        if (ifMatch) init.headers = { ...(init.headers as Record<string, string>), 'if-match': ifMatch };
        const problem = await expectProblem(await t.http(`/orders/${orderId}${command.path}`, init), 404);
        expect(problem.type, command.name).toMatch(/\/not-found$/);
        expect(await eventsOf(t, orderId)).toEqual([]);
      }
    }
  });

  it('given an order in each state, when each command it does not allow is sent, then 409 invalid-transition naming state and command', async () => {
    for (const [state, allowed] of Object.entries(allowedIn)) {
      for (const command of orderCommands.filter((c) => !allowed.includes(c.name))) {
        const orderId = await orderIn(state);
        const eventsBefore = (await eventsOf(t, orderId)).length;
        const problem = await expectProblem(
          await t.http(`/orders/${orderId}${command.path}`, command.init()),
          409,
        );
        expect(problem.type, `${command.name} when ${state}`).toMatch(/\/invalid-transition$/);
        expect(problem.detail).toContain(state);
        expect(problem.detail).toContain(command.name);
        expect(await eventsOf(t, orderId)).toHaveLength(eventsBefore);
      }
    }
  });

  it('given an If-Match that is not the current version, when a command is sent, then 412 and nothing is appended; the current one → 200', async () => {
    const { orderId } = await placeOrder(t);
    await expectSuccess(
      await t.http(`/orders/${orderId}/items`, json({ sku: 'A', quantity: 1, unitPrice: 1 })),
      200,
    );
    const current = 1;
    for (const stale of [current - 1, current + 1]) {
      const init = json({ sku: 'B', quantity: 1, unitPrice: 1 }, { 'if-match': `"${stale}"` });
      const problem = await expectProblem(await t.http(`/orders/${orderId}/items`, init), 412);
      expect(problem.type).toMatch(/\/precondition-failed$/);
    }
    expect(await eventsOf(t, orderId)).toHaveLength(current + 1);

    const init = withMethod('POST', { headers: { 'if-match': `"${current}"` } });
    const res = await t.http(`/orders/${orderId}/confirm`, init);
    const answer = await expectSuccess(res, 200);
    expect(answer.version).toBe(current + 1);
    expect(res.headers.get('etag')).toBe(`"${current + 1}"`);
  });

  it('given an If-Match that is not a quoted version, when a command is sent, then 400 names the header', async () => {
    const { orderId } = await placeOrder(t);
    for (const ifMatch of ['0', 'latest', '"1" "2"']) {
      const problem = await expectProblem(
        await t.http(`/orders/${orderId}/confirm`, withMethod('POST', { headers: { 'if-match': ifMatch } })),
        400,
      );
      expect(problem.errors?.[0]?.path).toBe('header.if-match');
    }
    expect(await eventsOf(t, orderId)).toHaveLength(1);
  });

  it('given a body that is not JSON, when it is sent to any command, then 415 and nothing is appended', async () => {
    const { orderId } = await placeOrder(t);
    const before = await t.app.store.headPosition();
    const bodies: Array<{ headers: Record<string, string>; body: string | Uint8Array }> = [
      { headers: { 'content-type': 'text/plain' }, body: '{"sku":"A","quantity":1,"unitPrice":1}' },
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'sku=A&quantity=1' },
      { headers: {}, body: new TextEncoder().encode('{"reason":"x"}') }, // no content-type at all
      { headers: { 'content-type': 'application/json; charset=latin1' }, body: '{"reason":"x"}' },
    ];
    for (const { method, path } of commandRoutes(orderId)) {
      for (const { headers, body } of bodies) {
        const problem = await expectProblem(await t.http(path, { method, headers, body }), 415);
        expect(problem.type, `${method} ${path}`).toMatch(/\/unsupported-media-type$/);
      }
    }
    expect(await t.app.store.headPosition()).toBe(before);
  });
});
