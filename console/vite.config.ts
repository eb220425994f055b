import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * A static build: index.html and hashed assets, everything bundled (no CDN). Nothing inline: the
 * module preload polyfill would add an inline script, which a CSP of script-src 'self' blocks, and
 * CSS goes to its own file for style-src 'self'.
 */
export default defineConfig({
  plugins: [react()],
  build: {
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    // The budget that matters is gzipped (npm run size); the raw size warning says nothing about it.
    chunkSizeWarningLimit: 800,
  },
});
