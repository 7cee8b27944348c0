/** A valid POST /orders body; `n` makes the customer id unique per request. */
export const orderBody = (n: number): string =>
  JSON.stringify({
    customerId: `bench-customer-${n}`,
    items: [
      { sku: 'SKU-1', quantity: 2, unitPrice: 19.99 },
      { sku: `SKU-${n % 100}`, quantity: 1, unitPrice: 5 },
    ],
    shippingAddress: { line1: '1 Main Street', city: 'Berlin', postalCode: '10115', country: 'DE' },
    currency: 'EUR',
  });
