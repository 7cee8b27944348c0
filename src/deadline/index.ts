/**
 * The one timeout of the service: settles as `work` does, or rejects after `ms` with the error `expired`
 * makes (which may also abandon the work: drop a connection, close a stream). The work itself is not
 * stopped here; a caller that must stop it does so in `expired`.
 */
export const withDeadline = <T>(work: Promise<T>, ms: number, expired: () => Error): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(expired()), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
