import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The UI is served by vigil itself from web/dist (see docs/api.md, "The web UI"). `npm run dev`
// proxies the API to a vigil on 127.0.0.1:8080 for working on the UI with hot reload.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
