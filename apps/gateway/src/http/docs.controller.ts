import { Controller, Get, Header } from '@nestjs/common';

import { managementDocsPage, managementOpenApi } from './openapi.js';

/** The management API's OpenAPI document and a reference page, both public. */
@Controller()
export class DocsController {
  private readonly document = managementOpenApi();
  private readonly page = managementDocsPage();

  @Get('api/v1/openapi.json')
  openapi(): Record<string, unknown> {
    return this.document;
  }

  @Get('api/docs')
  @Header('Content-Type', 'text/html; charset=utf-8')
  docs(): string {
    return this.page;
  }
}
