import { Module } from '@nestjs/common';
import { HttpServerLimits } from './http-server-limits.js';

@Module({ providers: [HttpServerLimits], exports: [HttpServerLimits] })
export class HttpServerModule {}
