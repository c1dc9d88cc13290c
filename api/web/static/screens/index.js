// The screen registry: each hash route and the module that draws it. A
// module is loaded the first time its route is opened. Fields:
//   path    "#"-route pattern; ":name" segments become params
//   load    () => import('./module.js'); the module default-exports
//           function Screen({ me, school, params, query, navigate, reload })
//   public  shown without signing in
//   roles   the caller needs one of these roles at :schoolId (the API
//           checks again; this only keeps the navigation honest)
//   nav     i18n key of the navigation link (screens under a school)
export const screens = [
  { path: '/signin', load: () => import('./signin.js'), public: true },
  { path: '/reset', load: () => import('./reset.js'), public: true },
  { path: '/reset/confirm', load: () => import('./reset_confirm.js'), public: true },
  { path: '/schools', load: () => import('./schools.js') },
  { path: '/s/:schoolId', load: () => import('./home.js'), roles: ['admin', 'teacher'], nav: 'nav.home' },

  // Teachers (and admins): classes, assignments, submissions, engagement.
  { path: '/s/:schoolId/classes', load: () => import('./teacher_classes.js'), roles: ['teacher', 'admin'], nav: 'nav.classes' },
  { path: '/s/:schoolId/classes/:classId/assign', load: () => import('./teacher_assign.js'), roles: ['teacher', 'admin'] },
  { path: '/s/:schoolId/assignments/:assignmentId', load: () => import('./teacher_submissions.js'), roles: ['teacher', 'admin'] },
  { path: '/s/:schoolId/engagement', load: () => import('./engagement.js'), roles: ['teacher', 'admin'], nav: 'nav.engagement' },

  // School admins.
  { path: '/s/:schoolId/admin/import', load: () => import('./admin_import.js'), roles: ['admin'], nav: 'nav.import' },
  { path: '/s/:schoolId/admin/funnel', load: () => import('./admin_funnel.js'), roles: ['admin'], nav: 'nav.funnel' },
  { path: '/s/:schoolId/admin/staff', load: () => import('./admin_staff.js'), roles: ['admin'], nav: 'nav.staff' },
  { path: '/s/:schoolId/admin/classes', load: () => import('./admin_classes.js'), roles: ['admin'], nav: 'nav.adminClasses' },
  { path: '/s/:schoolId/admin/children', load: () => import('./admin_children.js'), roles: ['admin'], nav: 'nav.children' },
  { path: '/s/:schoolId/admin/children/:childId', load: () => import('./admin_child.js'), roles: ['admin'] },
  { path: '/s/:schoolId/admin/messages', load: () => import('./admin_messages.js'), roles: ['admin'], nav: 'nav.messages' },
  { path: '/s/:schoolId/admin/export', load: () => import('./admin_export.js'), roles: ['admin'], nav: 'nav.export' },
  { path: '/s/:schoolId/admin/subscription', load: () => import('./admin_subscription.js'), roles: ['admin'], nav: 'nav.subscription' },
];

// navFor lists the navigation links the caller's roles at the school open.
export function navFor(school) {
  const roles = (school && school.roles) || [];
  return screens
    .filter((e) => e.nav && (!e.roles || e.roles.some((r) => roles.includes(r))))
    .map((e) => ({ key: e.nav, path: e.path.replace(':schoolId', encodeURIComponent(school.id)), roles: e.roles }));
}
