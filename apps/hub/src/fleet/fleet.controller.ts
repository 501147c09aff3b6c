import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type FleetSummary, FleetSummarySchema } from '@telehub/contracts';
import { RequiresRole } from '../admin-auth/requires-role.decorator.js';
import { ProblemResponses } from '../openapi/problem-responses.decorator.js';
import { FleetSummaryService } from './fleet-summary.service.js';

@ApiTags('fleet')
@ApiBearerAuth()
@Controller('api/v1/fleet')
export class FleetController {
  constructor(private readonly fleet: FleetSummaryService) {}

  @Get('summary')
  @RequiresRole('viewer')
  @ApiOperation({
    summary: 'Devices, devices online, and telemetry committed per second over the last minute',
    description: 'The rates count what this hub process committed (complete seconds, so at most a second old).',
  })
  @ApiOkResponse({ standardSchema: FleetSummarySchema })
  @ProblemResponses(401)
  summary(): Promise<FleetSummary> {
    return this.fleet.summary();
  }
}
