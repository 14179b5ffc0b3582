import { httpRouter } from "convex/server";
import { auth } from "./auth";
import { addAttachmentRoutes } from "./lib/attachmentRoutes";

const http = httpRouter();

auth.addHttpRoutes(http);
addAttachmentRoutes(http);

export default http;
