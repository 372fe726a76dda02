// The Drizzle test application's schema (users, sessions, messages, tasks): foreign keys, unique and
// composite indexes. Its migrations in ./migrations are generated from this file by
// `drizzle-kit generate --config __test__/drizzle/drizzle.config.mjs` (run in node/), plus one custom
// step (`--custom`) holding the trigger, which Drizzle's schema language cannot declare.
import { sqliteTable, text, integer, index, uniqueIndex, primaryKey } from 'drizzle-orm/sqlite-core';
import { relations, sql } from 'drizzle-orm';

export const users = sqliteTable('users', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  email: text('email').notNull(),
  name: text('name').notNull(),
  messageCount: integer('message_count').notNull().default(0),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull().default(sql`(unixepoch() * 1000)`),
}, (t) => [uniqueIndex('users_email_unique').on(t.email)]);

export const sessions = sqliteTable('sessions', {
  token: text('token').primaryKey(),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  expiresAt: integer('expires_at').notNull(),
}, (t) => [index('sessions_user_idx').on(t.userId)]);

export const messages = sqliteTable('messages', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  body: text('body').notNull(),
  nodeId: text('node_id'),
  sentAt: integer('sent_at').notNull(),
}, (t) => [index('messages_user_sent_idx').on(t.userId, t.sentAt)]);

export const tasks = sqliteTable('tasks', {
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  seq: integer('seq').notNull(),
  title: text('title').notNull(),
  done: integer('done', { mode: 'boolean' }).notNull().default(false),
}, (t) => [primaryKey({ columns: [t.userId, t.seq] }), index('tasks_done_idx').on(t.done, t.userId)]);

export const usersRelations = relations(users, ({ many }) => ({
  sessions: many(sessions),
  messages: many(messages),
  tasks: many(tasks),
}));
export const sessionsRelations = relations(sessions, ({ one }) => ({
  user: one(users, { fields: [sessions.userId], references: [users.id] }),
}));
export const messagesRelations = relations(messages, ({ one }) => ({
  user: one(users, { fields: [messages.userId], references: [users.id] }),
}));
export const tasksRelations = relations(tasks, ({ one }) => ({
  user: one(users, { fields: [tasks.userId], references: [users.id] }),
}));
