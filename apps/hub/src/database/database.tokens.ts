/** Injection tokens for the database objects that are not classes. */
export const DATABASE_CLIENT = Symbol('DATABASE_CLIENT');
export const DATABASE_MODE = Symbol('DATABASE_MODE');
