// A second domain module, kept in test/ to prove the seam: one command, one projection, one query.
import { defineModule } from '../../../src/module';
import { inventoryRoutes } from './routes';
import { stockCommandHandlers, stockEventSchemas } from './stock';
import { stockLevels, stockQueryHandlers } from './stock-levels';

export const inventory = defineModule({
  name: 'inventory',
  events: stockEventSchemas,
  projections: [stockLevels],
  commands: stockCommandHandlers,
  queries: stockQueryHandlers,
  routes: inventoryRoutes,
});

export { MAX_RESERVED, stockStream } from './stock';
export { STOCK_LEVELS, type StockView } from './stock-levels';
