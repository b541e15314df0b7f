// Vite build of the web UI into dist/ (served by `hotpath server` at /). `npx vite` in this folder
// runs a dev server that proxies the API to a local Hotpath server (HOTPATH_URL, default :4040).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const target = process.env['HOTPATH_URL'] ?? 'http://127.0.0.1:4040';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  server: {
    proxy: {
      '/querier.v1.QuerierService': target,
      '/pyroscope': target,
      '/ingest': target,
    },
  },
});
