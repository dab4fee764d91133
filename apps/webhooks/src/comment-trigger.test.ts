import { describe, expect, it } from 'vitest';
import { isBotUser, mentionsApp } from './comment-trigger.ts';

describe('mentionsApp', () => {
  it.each([
    '@runner-app please look',
    'please look, @runner-app',
    'Hey @Runner-App!',
    '(@runner-app)',
    'cc @runner-app.',
    'line one\n@RUNNER-APP fix it',
  ])('finds the mention in %j', (text) => {
    expect(mentionsApp(text, 'runner-app')).toBe(true);
  });

  it.each([
    'no mention here',
    'runner-app without the @',
    '@runner-apps is another account',
    '@runner-app-other is another account',
    '@runner-app_x is not a GitHub login',
    'mail me@runner-app.dev',
    '@@runner-app',
    '@runner-app/reviewers is a team',
  ])('finds no mention in %j', (text) => {
    expect(mentionsApp(text, 'runner-app')).toBe(false);
  });
});

describe('isBotUser', () => {
  it.each([
    [{ login: 'runner-app[bot]', type: 'Bot' }, true],
    [{ login: 'dependabot[bot]', type: 'Bot' }, true],
    [{ login: 'renovate', type: 'Bot' }, true],
    [{ login: 'runner-app[bot]', type: 'User' }, true],
    [{ login: 'octocat', type: 'User' }, false],
    [{ login: 'bot-fan', type: 'User' }, false],
  ])('%j is a bot: %s', (user, expected) => {
    expect(isBotUser(user)).toBe(expected);
  });
});
