import type { DomainModule } from './module/index.js';
import { orders } from './orders/index.js';

/**
 * The domains this service runs. Adding one is a folder of its own (see src/orders/ and the README's
 * "Add your own domain module") and one entry here.
 */
export const modules: readonly DomainModule[] = [orders];
