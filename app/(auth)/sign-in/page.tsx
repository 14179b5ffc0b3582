import { SignInForm } from "@/components/features/auth/sign-in-form";

export const metadata = { title: "Sign in · Chat" };

export default function SignInPage() {
  return (
    <main className="flex min-h-dvh items-center justify-center px-5 py-10">
      <SignInForm />
    </main>
  );
}
