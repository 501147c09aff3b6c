import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthThrottleModule } from '../auth/auth-throttle.module.js';
import { AdminAuthGuard } from './admin-auth.guard.js';
import { AdminTokenService } from './admin-token.service.js';

@Module({
  imports: [AuthThrottleModule],
  providers: [AdminTokenService, { provide: APP_GUARD, useClass: AdminAuthGuard }],
  exports: [AdminTokenService],
})
export class AdminAuthModule {}
