// Teacher screens' words. Replaced by the teacher screens' own.
export default {
  'teacher.teacherClasses.title': 'Your classes',
  'teacher.teacherAssign.title': 'Set an activity',
  'teacher.teacherSubmissions.title': 'Submissions',
  'teacher.engagement.title': 'Engagement',
};
