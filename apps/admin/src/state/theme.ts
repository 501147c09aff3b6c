import { Store } from './store.js';

export type ThemeChoice = 'system' | 'light' | 'dark';
export type Theme = 'light' | 'dark';

const THEME_KEY = 'telehub.theme';
const darkQuery = window.matchMedia('(prefers-color-scheme: dark)');

function readChoice(): ThemeChoice {
  try {
    const stored = localStorage.getItem(THEME_KEY);
    return stored === 'light' || stored === 'dark' ? stored : 'system';
  } catch {
    return 'system';
  }
}

export const themeChoice = new Store<ThemeChoice>(readChoice());
/** The theme in effect; charts read their colours again when it changes. */
export const theme = new Store<Theme>('light');

function apply(): void {
  const choice = themeChoice.get();
  const resolved: Theme = choice === 'system' ? (darkQuery.matches ? 'dark' : 'light') : choice;
  document.documentElement.dataset.theme = resolved;
  theme.set(resolved);
}

export function setThemeChoice(choice: ThemeChoice): void {
  try {
    if (choice === 'system') localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, choice);
  } catch {
    // not remembered
  }
  themeChoice.set(choice);
  apply();
}

export function initTheme(): void {
  darkQuery.addEventListener('change', apply);
  apply();
}
