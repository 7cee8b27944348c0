import { expect } from 'vitest';
import type { Decider } from '../../src/cqrs';

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * `given(...events).when(command).then(events)` or `.thenThrows(ErrorClass)` for any pure decider:
 * the state is the fold of the given events, exactly as the command handler would build it.
 */
export const givenWhenThen =
  <C, E extends { type: string; data: unknown }, S>(decider: Decider<C, E, S>) =>
  (...history: E[]) => ({
    when: (command: C) => {
      const decideNow = () => decider.decide(command, history.reduce(decider.evolve, decider.initialState()));
      return {
        // biome-ignore lint/suspicious/noThenProperty: the test reads as given/when/then; nothing awaits it.
        then: (expected: E[]): void => {
          expect(decideNow()).toEqual(expected);
        },
        /** Asserts the error's class and answers it, for checks on its detail. */
        thenThrows: <T extends ErrorClass>(errorClass: T): InstanceType<T> => {
          let thrown: unknown;
          try {
            decideNow();
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(errorClass);
          return thrown as InstanceType<T>;
        },
      };
    },
  });
