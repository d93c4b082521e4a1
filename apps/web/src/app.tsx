import { Center, Loader } from '@mantine/core';
import { Suspense, lazy } from 'react';
import { Navigate, Route, Routes } from 'react-router';
import { Layout } from './components/layout';
import { RequireAdmin } from './components/require-admin';
import { NotFoundPage } from './pages/not-found-page';
import { RepositoriesPage } from './pages/repositories-page';
import { RepositoryPage } from './pages/repository-page';

// Pages most visitors never open load on demand, keeping the first view's JavaScript small.
const SignInPage = lazy(() => import('./pages/sign-in-page').then((module) => ({ default: module.SignInPage })));
const ImageOrManifestPage = lazy(() => import('./pages/image-or-manifest-page').then((module) => ({ default: module.ImageOrManifestPage })));
const TokensPage = lazy(() => import('./admin/tokens-page'));
const RepositoryFormPage = lazy(() => import('./admin/repository-form-page'));
const UsersPage = lazy(() => import('./admin/users-page'));
const GroupsPage = lazy(() => import('./admin/groups-page'));
const PermissionsPage = lazy(() => import('./admin/permissions-page'));
const StoragePage = lazy(() => import('./admin/storage-page'));

export function App() {
  return (
    <Routes>
      <Route
        path="/sign-in"
        element={
          <Suspense fallback={null}>
            <SignInPage />
          </Suspense>
        }
      />
      <Route
        element={
          <Suspense
            fallback={
              <Center h={200}>
                <Loader aria-label="Loading" />
              </Center>
            }
          >
            <Layout />
          </Suspense>
        }
      >
        <Route index element={<Navigate to="/repositories" replace />} />
        <Route path="/repositories" element={<RepositoriesPage />} />
        <Route path="/repositories/:key" element={<RepositoryPage />} />
        <Route path="/repositories/:key/images/*" element={<ImageOrManifestPage />} />
        <Route path="/tokens" element={<TokensPage />} />
        <Route path="/admin" element={<RequireAdmin />}>
          <Route path="repositories/new" element={<RepositoryFormPage />} />
          <Route path="repositories/:key/edit" element={<RepositoryFormPage />} />
          <Route path="users" element={<UsersPage />} />
          <Route path="groups" element={<GroupsPage />} />
          <Route path="permissions" element={<PermissionsPage />} />
          <Route path="storage" element={<StoragePage />} />
        </Route>
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
