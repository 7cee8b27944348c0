// An entry point like src/main.ts whose module list has two modules claiming one event type (OrderPlaced):
// start-up must stop with one clear line. Run by test/e2e/startup.test.ts.
import { defineModule } from '../../../src/module';
import { orders } from '../../../src/orders';
import { runService } from '../../../src/service';
import { inventory } from '.';

const squatter = defineModule({
  ...inventory,
  name: 'squatter',
  events: { OrderPlaced: { current: 1 } },
  projections: [],
  commands: () => ({}),
  queries: {},
  routes: () => {},
});

void runService([orders, inventory, squatter]);
