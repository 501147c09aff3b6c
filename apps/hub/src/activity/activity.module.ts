import { Module } from '@nestjs/common';
import { DeviceActivitySweeper } from './device-activity.sweeper.js';

/** Active/inactive device transitions, for every transport (see DeviceActivitySweeper). */
@Module({ providers: [DeviceActivitySweeper] })
export class ActivityModule {}
