import { Module } from '@nestjs/common';
import { AuthThrottle } from './auth-throttle.js';

/** One AuthThrottle for device and admin authentication alike: an address's failures count across all of them. */
@Module({ providers: [AuthThrottle], exports: [AuthThrottle] })
export class AuthThrottleModule {}
