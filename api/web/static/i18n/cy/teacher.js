// Teacher screens' words. Replaced by the teacher screens' own.
export default {
  'teacher.teacherClasses.title': 'Eich dosbarthiadau',
  'teacher.teacherAssign.title': 'Gosod gweithgaredd',
  'teacher.teacherSubmissions.title': 'Cyflwyniadau',
  'teacher.engagement.title': 'Ymgysylltu',
};
