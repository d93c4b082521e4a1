import { checkActions, checkRepositoryPatterns } from './scope-validation';

describe('scope validation', () => {
  it('accepts keys and * patterns, deduplicated', () => {
    expect(checkRepositoryPatterns(['docker-*', 'docker-local', '*', 'docker-local', 'a.b'], 'repositories')).toEqual(['docker-*', 'docker-local', '*', 'a.b']);
  });

  it.each([[[]], [['Docker-local']], [['docker/local']], [['']], [['a'.repeat(65)]], [['docker local']]])('refuses %j, naming the field', (patterns) => {
    expect(() => checkRepositoryPatterns(patterns, 'repositories')).toThrow(/repositories/);
  });

  it('puts actions in canonical order without duplicates', () => {
    expect(checkActions(['write', 'read', 'write', 'manage'], 'actions')).toEqual(['read', 'write', 'manage']);
    expect(checkActions([], 'actions')).toEqual([]);
  });

  it('names a bad action and where it was', () => {
    expect(() => checkActions(['read', 'admin'], 'principals.users.alice')).toThrow('principals.users.alice: action "admin" is not one of read, write, delete, manage');
    expect(() => checkActions(['pull'], 'actions')).toThrow(/"pull"/);
    expect(() => checkActions('read', 'actions')).toThrow(/must be an array/);
    expect(() => checkActions([1], 'actions')).toThrow(/"1"/);
  });
});
