// First: starts the opened page's API calls before the modules below are evaluated.
import { openedPageData, queries } from './query-client';
import '@mantine/core/styles.css';
import '@mantine/notifications/styles.css';
import { MantineProvider, createTheme } from '@mantine/core';
import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode, lazy } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './app';
import { AfterFirstRender } from './components/after-first-render';
import { UI_BASE } from './components/lean-rows';
import { SessionProvider } from './session';

// Notifications only show after something happened: their component (six positions, each a
// transition group) loads after the first render rather than in it. (The store behind
// notifications.show() is in the first chunk: a message shown before then waits there.)
const Notifications = lazy(() => import('@mantine/notifications').then((module) => ({ default: module.Notifications })));

const theme = createTheme({
  primaryColor: 'indigo',
  // Contrast: the default dimmed gray is too light on white for WCAG AA in small text.
  colors: {},
  defaultRadius: 'sm',
});

/** How long the first render waits for the opened page's data: past it, the page shows its loaders. */
const FIRST_RENDER_WAIT_MS = 150;

// Not a top-level await: that would make the bundler split the entry into a chunk per shared module.
const dataOrTimeout = Promise.race([openedPageData, new Promise((resolve) => setTimeout(resolve, FIRST_RENDER_WAIT_MS))]);

dataOrTimeout.then(() =>
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <MantineProvider theme={theme}>
        <AfterFirstRender>
          <Notifications position="top-right" />
        </AfterFirstRender>
        <QueryClientProvider client={queries}>
          <BrowserRouter basename={UI_BASE}>
            <SessionProvider>
              <App />
            </SessionProvider>
          </BrowserRouter>
        </QueryClientProvider>
      </MantineProvider>
    </StrictMode>,
  ),
);
