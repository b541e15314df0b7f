// A Connect unary method over protobuf-es generated messages (src/gen/): decoding failures become coded
// 400s (malformed_protobuf / malformed_json), never a 500, and unknown JSON fields are ignored as
// Pyroscope's Connect server ignores them (the Drilldown app's JSON may carry protobuf-es' `$typeName`).

import {
  fromBinary,
  fromJson,
  toBinary,
  toJson,
  type DescMessage,
  type JsonValue,
  type MessageShape,
} from '@bufbuild/protobuf';
import { requestErrors } from '../errors.ts';
import type { UnaryMethod } from './unary.ts';

export function generatedMethod<Req extends DescMessage, Res extends DescMessage>(
  path: string,
  req: Req,
  res: Res,
  handle: UnaryMethod<MessageShape<Req>, MessageShape<Res>>['handle'],
): UnaryMethod<MessageShape<Req>, MessageShape<Res>> {
  return {
    path,
    decodeBinary(bytes) {
      try {
        return fromBinary(req, bytes);
      } catch (e) {
        throw requestErrors.malformedProtobuf(invalidRequest(e));
      }
    },
    decodeJson(json) {
      try {
        return fromJson(req, json as JsonValue, { ignoreUnknownFields: true });
      } catch (e) {
        throw requestErrors.malformedJson(invalidRequest(e));
      }
    },
    encodeBinary: (m) => toBinary(res, m),
    encodeJson: (m) => toJson(res, m),
    handle,
  };
}

const invalidRequest = (e: unknown) => `invalid request: ${(e as Error).message}`;
