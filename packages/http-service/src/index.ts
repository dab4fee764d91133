export { closeServer } from './close-server.ts';
export { listen } from './listen.ts';
export {
  type Backend,
  type ServeWithBackendOptions,
  type ServingWithBackend,
  serveWithBackend,
} from './serve-with-backend.ts';
