import { defineConfig } from 'vite';

// The console is served by the outpost binary; `npm run dev` proxies the API
// to a running server (OUTPOST_URL, default https://127.0.0.1:8443).
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    // scripts/clean-dist.mjs empties dist but keeps the committed .gitkeep
    // that lets `go build` embed the directory before the UI is built.
    emptyOutDir: false,
    target: 'es2020',
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: { '/api': { target: process.env.OUTPOST_URL || 'https://127.0.0.1:8443', secure: false, changeOrigin: true } },
  },
});
