export {
  type CommandDeps,
  type CommandHandlers,
  type DispatchedCommand,
  type DomainModule,
  defineModule,
  type QueryHandlers,
} from './define-module';
export { ModuleConflict, type MountedModules, type MountedProjection, mountModules } from './mount';
