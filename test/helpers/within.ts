// A bounded poll for end-to-end tests: run `check` (which throws until what it checks holds) every 25 ms
// for up to `ms`, then give its last error. A bound only: nothing asserts how fast it held.
export async function within<T>(ms: number, check: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
