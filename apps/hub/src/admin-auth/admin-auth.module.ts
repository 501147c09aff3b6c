import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthThrottleModule } from '../auth/auth-throttle.module.js';
import { AdminAuthGuard } from './admin-auth.guard.js';
import { AdminTokenService } from './admin-token.service.js';
import { AdminTokenBootstrap } from './admin-token-bootstrap.service.js';

@Module({
  imports: [AuthThrottleModule],
  providers: [AdminTokenService, AdminTokenBootstrap, { provide: APP_GUARD, useClass: AdminAuthGuard }],
  exports: [AdminTokenService, AdminTokenBootstrap],
})
export class AdminAuthModule {}
