/** What a test reads of a running service's operations and admin routes. */

export interface StatusRow {
  name: string;
  generation: number;
  status: string;
  checkpoint: string;
  lagEvents: number;
  lastError?: string;
}

export interface ReadyBody {
  status: string;
  components: Record<string, { status: string; error?: string }>;
}

export const adminRows = async (baseUrl: string, token: string): Promise<StatusRow[]> => {
  const res = await fetch(`${baseUrl}/admin/projections`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`/admin/projections answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as StatusRow[];
};

export const rowOf = (rows: StatusRow[], name: string): StatusRow => {
  const row = rows.find((r) => r.name === name);
  if (row === undefined) throw new Error(`no row for ${name}`);
  return row;
};

export const readiness = async (baseUrl: string): Promise<{ status: number; body: ReadyBody }> => {
  const res = await fetch(`${baseUrl}/ready`);
  return { status: res.status, body: (await res.json()) as ReadyBody };
};

/** The value of one sample of /metrics (labels as written, e.g. `{projection="order-view"}`), or undefined. */
export const metricValue = async (
  baseUrl: string,
  name: string,
  labels = '',
): Promise<number | undefined> => {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const escaped = `${name}${labels}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  return match === null ? undefined : Number(match[1]);
};

/** The sum of a counter over every label set that contains `labelPart` (e.g. `cause="oom"`). */
export const counterSum = async (baseUrl: string, name: string, labelPart: string): Promise<number> => {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let sum = 0;
  for (const [, labels, value] of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm')))
    if (labels!.includes(labelPart)) sum += Number(value);
  return sum;
};
