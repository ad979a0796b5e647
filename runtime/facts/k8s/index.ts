export { requestInfo, InvalidRequestPathError } from "./request-info.js";
