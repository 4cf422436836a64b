import { DomainError } from '@tengine/contracts';

import { hasMalformedPlaceholder, templateTexts, templateVariables } from './templates.js';

describe(templateVariables.name, () => {
  it('should list each placeholder once, in order, tolerating inner spaces', () => {
    expect(templateVariables('/a/{{ order_id }}/b/{{line}}/{{order_id}}')).toEqual([
      'order_id',
      'line',
    ]);
    expect(templateVariables('/plain')).toEqual([]);
    expect(templateVariables('{{1bad}} {{ok_1}}')).toEqual(['ok_1']);
  });
});

describe(hasMalformedPlaceholder.name, () => {
  it.each([
    ['/a/{{id', true],
    ['/a/id}}', true],
    ['/a/{{1id}}', true],
    ['/a/{{ id-x }}', true],
    ['/a/{id}', false],
    ['/a/{{id}}', false],
    ['{{a}}{{b}}', false],
  ])('%s → %s', (template, malformed) => {
    expect(hasMalformedPlaceholder(template)).toBe(malformed);
  });
});

describe(templateTexts.name, () => {
  it('should name the field of every template string, body leaves included', () => {
    const texts = templateTexts({
      endpoint_path: '/x',
      query_template: { q: '{{q}}' },
      header_template: { 'X-A': '{{a}}' },
      body_template: { order: { lines: ['{{line}}', 3, null] }, note: 'n' },
    });
    expect(texts.map((text) => text.field).sort()).toEqual([
      'body_template.note',
      'body_template.order.lines.0',
      'endpoint_path',
      'header_template.X-A',
      'query_template.q',
    ]);
  });

  it('should refuse a body template nested deeper than the bound, without recursing', () => {
    let body: unknown = '{{x}}';
    for (let depth = 0; depth < 10_000; depth += 1) body = [body];
    let caught: unknown;
    try {
      templateTexts({
        endpoint_path: '/',
        query_template: null,
        header_template: null,
        body_template: body,
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DomainError);
    expect((caught as DomainError).code).toBe('VALIDATION_FAILED');
  });
});
