// drizzle-kit's configuration for the test application (run from node/).
export default {
  dialect: 'sqlite',
  schema: './__test__/drizzle/schema.mjs',
  out: './__test__/drizzle/migrations',
};
