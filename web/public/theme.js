// Runs before the first paint (a blocking script in <head>, allowed by script-src 'self'):
// puts the theme on <html> so a dark page never flashes light. The saved choice is the one
// src/lib/theme.ts writes; without one the system's colour scheme decides.
(function () {
  var choice = null;
  try {
    choice = localStorage.getItem('vaultpay.theme');
  } catch {
    // storage blocked: follow the system
  }
  var dark = choice === 'dark' || (choice !== 'light' && window.matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.setAttribute('data-theme', dark ? 'dark' : 'light');
})();
