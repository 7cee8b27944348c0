// Entry point (`npm start`): the service with the domain modules of src/modules.ts.
import { modules } from './modules.js';
import { runService } from './service.js';

runService(modules).catch((error: unknown) => {
  process.stderr.write(
    `sluice: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
