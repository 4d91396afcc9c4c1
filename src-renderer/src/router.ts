import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router'

/** Every screen; hash history so deep links work from a file:// or custom-protocol page too. */
const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/datasets' },
  {
    path: '/datasets',
    name: 'datasets',
    component: () => import('./views/DatasetsView.vue'),
    meta: { title: 'Datasets' }
  },
  {
    path: '/datasets/:id(\\d+)',
    name: 'dataset',
    component: () => import('./views/DatasetDetailView.vue'),
    props: (r) => ({ id: Number(r.params.id) }),
    meta: { title: 'Dataset' }
  },
  {
    path: '/train',
    name: 'train',
    component: () => import('./views/TrainView.vue'),
    meta: { title: 'Train' }
  },
  {
    path: '/runs',
    name: 'runs',
    component: () => import('./views/RunsView.vue'),
    meta: { title: 'Runs' }
  },
  {
    path: '/runs/:id(\\d+)',
    name: 'run',
    component: () => import('./views/RunDetailView.vue'),
    props: (r) => ({ id: Number(r.params.id) }),
    meta: { title: 'Run' }
  },
  {
    path: '/retrieval',
    name: 'retrieval',
    component: () => import('./views/RetrievalView.vue'),
    meta: { title: 'Retrieval' }
  },
  {
    path: '/compare',
    name: 'compare',
    component: () => import('./views/CompareView.vue'),
    meta: { title: 'Compare' }
  },
  {
    path: '/experiments',
    name: 'experiments',
    component: () => import('./views/ExperimentsView.vue'),
    meta: { title: 'Experiments' }
  },
  {
    path: '/experiments/:id(\\d+)',
    name: 'experiment',
    component: () => import('./views/ExperimentDetailView.vue'),
    props: (r) => ({ id: Number(r.params.id) }),
    meta: { title: 'Experiment' }
  },
  { path: '/:rest(.*)*', redirect: '/datasets' }
]

/** The app's router. */
export const router = createRouter({ history: createWebHashHistory(), routes })

router.afterEach((to) => {
  const t = to.meta.title as string | undefined
  document.title = t ? `${t} — HIST Studio` : 'HIST Studio'
})
