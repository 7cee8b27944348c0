export {
  type CommandDeps,
  type CommandHandlers,
  type DispatchedCommand,
  type DomainModule,
  defineModule,
  type QueryHandlers,
} from './define-module.js';
export { ModuleConflict, type MountedModules, type MountedProjection, mountModules } from './mount.js';
