import { Module } from '@nestjs/common';
import { AdminTokensController } from './admin-tokens.controller.js';
import { AdminTokensService } from './admin-tokens.service.js';

/** Managing admin tokens over REST (the CLI uses AdminTokensService directly). */
@Module({
  controllers: [AdminTokensController],
  providers: [AdminTokensService],
})
export class AdminTokensModule {}
