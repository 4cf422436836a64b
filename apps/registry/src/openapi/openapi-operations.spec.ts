import { toolNameFrom, uniqueName } from './openapi-operations.js';

describe(toolNameFrom.name, () => {
  it.each([
    ['getPetById', 'getPetById'],
    ['people.create', 'people_create'],
    ['get /pets/{petId}', 'get_pets_petId'],
    ['__weird--name__', 'weird--name'],
    ['ünïcödé', 'n_c_d'],
    ['***', 'operation'],
    ['x'.repeat(80), 'x'.repeat(64)],
  ])('%s → %s', (raw, name) => {
    expect(toolNameFrom(raw)).toBe(name);
    expect(toolNameFrom(raw)).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });
});

describe(uniqueName.name, () => {
  it('should number repeated names within 64 characters and remember them', () => {
    const taken = new Set(['list']);
    expect(uniqueName('list', taken)).toBe('list_2');
    expect(uniqueName('list', taken)).toBe('list_3');
    const long = 'y'.repeat(64);
    expect(uniqueName(long, taken)).toBe(long);
    expect(uniqueName(long, taken)).toBe(`${'y'.repeat(62)}_2`);
    expect(taken.has('list_3')).toBe(true);
  });
});
